// Corpus regression for tests/fuzz/fuzz_time.cpp (see fuzz_registry.h).
#define LLVMFuzzerTestOneInput sluice_fuzz_time
#include "../../fuzz/fuzz_time.cpp"
#undef LLVMFuzzerTestOneInput

#include "fuzz_registry.h"
SLUICE_FUZZ_TARGET(time, sluice_fuzz_time)
