// Corpus regression for tests/fuzz/fuzz_regexp.cpp (see fuzz_registry.h).
#define LLVMFuzzerTestOneInput sluice_fuzz_regexp
#include "../../fuzz/fuzz_regexp.cpp"
#undef LLVMFuzzerTestOneInput

#include "fuzz_registry.h"
SLUICE_FUZZ_TARGET(regexp, sluice_fuzz_regexp)
