// Counts heap allocations in a benchmark binary by replacing the global operator new.
// Include from exactly one translation unit of a benchmark executable.
#pragma once

#include <atomic>
#include <cstdlib>
#include <new>

namespace dnsvigil::bench {
inline std::atomic<unsigned long long> g_allocations{0};
}  // namespace dnsvigil::bench

void* operator new(std::size_t n) {
  dnsvigil::bench::g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc{};
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
