// A bump allocator for bytes a batch owns (joined partial lines, unescaped strings).
// Blocks are kept across reset(), so a warmed-up pipeline allocates nothing per batch.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace sluice {

class Arena {
 public:
  explicit Arena(size_t block_size = 64 * 1024) : block_size_(block_size) {}
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  Arena(Arena&&) = default;
  Arena& operator=(Arena&&) = default;

  char* allocate(size_t n) {
    if (current_ < blocks_.size() && blocks_[current_].size - used_ >= n) {
      char* p = blocks_[current_].data.get() + used_;
      used_ += n;
      return p;
    }
    return allocate_slow(n);
  }

  std::string_view copy(std::string_view s) {
    char* p = allocate(s.size());
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    return {p, s.size()};
  }

  // Gives back the unused end of the latest allocation (p, `allocated` bytes long, of which the
  // first `used` are kept), so that a writer can allocate an upper bound and keep what it wrote.
  // An allocation that is no longer the latest, or that got a block of its own, keeps its size.
  void shrink_last(const char* p, size_t allocated, size_t used) {
    if (current_ < blocks_.size() && p + allocated == blocks_[current_].data.get() + used_)
      used_ -= allocated - used;
  }

  // Concatenates into a fresh run of bytes.
  std::string_view concat(std::string_view a, std::string_view b) {
    char* p = allocate(a.size() + b.size());
    if (!a.empty()) std::memcpy(p, a.data(), a.size());
    if (!b.empty()) std::memcpy(p + a.size(), b.data(), b.size());
    return {p, a.size() + b.size()};
  }

  void reset() {
    // Oversized one-off blocks (huge lines) are released; regular blocks are reused.
    size_t kept = 0;
    for (auto& b : blocks_)
      if (b.size == block_size_) blocks_[kept++] = std::move(b);
    blocks_.resize(kept);
    current_ = 0;
    used_ = 0;
  }

  size_t capacity() const {
    size_t total = 0;
    for (auto& b : blocks_) total += b.size;
    return total;
  }

 private:
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size;
  };

  char* allocate_slow(size_t n) {
    if (n > block_size_) {
      // Keep the current block open for small allocations after this one.
      blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(current_),
                     Block{std::make_unique<char[]>(n), n});
      ++current_;
      return blocks_[current_ - 1].data.get();
    }
    if (current_ < blocks_.size()) ++current_;
    while (current_ < blocks_.size() && blocks_[current_].size < n) ++current_;
    if (current_ >= blocks_.size()) {
      blocks_.push_back(Block{std::make_unique<char[]>(block_size_), block_size_});
      current_ = blocks_.size() - 1;
    }
    used_ = n;
    return blocks_[current_].data.get();
  }

  size_t block_size_;
  std::vector<Block> blocks_;
  size_t current_ = 0;
  size_t used_ = 0;
};

}  // namespace sluice
