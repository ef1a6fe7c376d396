#include "dnsvigil/output/line_writer.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace dnsvigil::output {

namespace {
constexpr std::size_t kBuffer = 1u << 20;
}

LineWriter::LineWriter(const std::string& path) : path_(path) {
  if (path == "-") {
    f_ = stdout;
  } else {
    f_ = std::fopen(path.c_str(), "a");
    if (f_ == nullptr) throw std::runtime_error("cannot open '" + path + "' for writing: " + std::strerror(errno));
    owned_ = true;
  }
  std::setvbuf(f_, nullptr, _IOFBF, kBuffer);
}

LineWriter::~LineWriter() {
  if (f_ != nullptr) std::fflush(f_);
  if (owned_) std::fclose(f_);
}

bool LineWriter::write(std::string_view line) noexcept {
  if (std::fwrite(line.data(), 1, line.size(), f_) != line.size() || std::fputc('\n', f_) == EOF) {
    ++failed_;
    return false;
  }
  ++lines_;
  return true;
}

void LineWriter::flush() noexcept { std::fflush(f_); }

bool LineWriter::reopen() noexcept {
  if (!owned_) return true;
  std::fflush(f_);
  std::FILE* nf = std::fopen(path_.c_str(), "a");
  if (nf == nullptr) return false;
  std::fclose(f_);
  f_ = nf;
  std::setvbuf(f_, nullptr, _IOFBF, kBuffer);
  return true;
}

}  // namespace dnsvigil::output
