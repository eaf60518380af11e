// Corpus regression for tests/fuzz/fuzz_cri.cpp (see fuzz_registry.h).
#define LLVMFuzzerTestOneInput sluice_fuzz_cri
#include "../../fuzz/fuzz_cri.cpp"
#undef LLVMFuzzerTestOneInput

#include "fuzz_registry.h"
SLUICE_FUZZ_TARGET(cri, sluice_fuzz_cri)
