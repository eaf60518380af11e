// The fuzz targets compiled into this test. Each target_<name>.cpp includes
// tests/fuzz/fuzz_<name>.cpp with LLVMFuzzerTestOneInput renamed (so all of them link into one
// executable) and registers it here; test_fuzz_corpus.cpp registers one GoogleTest test per
// target that runs its seed corpus and deterministic mutations of it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice::fuzz_corpus {

using Entry = int (*)(const uint8_t* data, size_t size);
// Returns true; called from a static initializer of each target_<name>.cpp.
bool register_target(const char* name, Entry entry);

}  // namespace sluice::fuzz_corpus

#define SLUICE_FUZZ_TARGET(name, entry) \
  static const bool sluice_fuzz_registered_##name = ::sluice::fuzz_corpus::register_target(#name, entry);
