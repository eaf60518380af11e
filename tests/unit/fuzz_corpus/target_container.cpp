// Corpus regression for tests/fuzz/fuzz_container.cpp (see fuzz_registry.h).
#define LLVMFuzzerTestOneInput sluice_fuzz_container
#include "../../fuzz/fuzz_container.cpp"
#undef LLVMFuzzerTestOneInput

#include "fuzz_registry.h"
SLUICE_FUZZ_TARGET(container, sluice_fuzz_container)
