// Corpus regression for tests/fuzz/fuzz_forward.cpp (see fuzz_registry.h); compiled in once that
// target exists (it is being written alongside in_forward).
#if __has_include("../../fuzz/fuzz_forward.cpp")
#define LLVMFuzzerTestOneInput sluice_fuzz_forward
#include "../../fuzz/fuzz_forward.cpp"
#undef LLVMFuzzerTestOneInput

#include "fuzz_registry.h"
SLUICE_FUZZ_TARGET(forward, sluice_fuzz_forward)
#endif
