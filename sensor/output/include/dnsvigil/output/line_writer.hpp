// Line-oriented output to a file or standard output, with a large buffer.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace dnsvigil::output {

class LineWriter {
 public:
  /// Opens `path` for appending ("-" is standard output). Throws std::runtime_error with a
  /// clear message when the file cannot be opened.
  explicit LineWriter(const std::string& path);
  ~LineWriter();
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;

  /// Writes `line` and a newline. Returns false when the write failed (disk full, closed pipe).
  bool write(std::string_view line) noexcept;
  void flush() noexcept;
  /// Closes and reopens the file (logrotate); no-op for standard output.
  bool reopen() noexcept;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] std::uint64_t lines() const noexcept { return lines_; }
  [[nodiscard]] std::uint64_t failed() const noexcept { return failed_; }

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
  bool owned_ = false;
  std::uint64_t lines_ = 0;
  std::uint64_t failed_ = 0;
};

}  // namespace dnsvigil::output
