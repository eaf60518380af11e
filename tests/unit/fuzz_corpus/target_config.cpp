// Corpus regression for tests/fuzz/fuzz_config.cpp (see fuzz_registry.h).
#define LLVMFuzzerTestOneInput sluice_fuzz_config
#include "../../fuzz/fuzz_config.cpp"
#undef LLVMFuzzerTestOneInput

#include "fuzz_registry.h"
SLUICE_FUZZ_TARGET(config, sluice_fuzz_config)
