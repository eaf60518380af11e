// Corpus regression for tests/fuzz/fuzz_json_flat.cpp (see fuzz_registry.h).
#define LLVMFuzzerTestOneInput sluice_fuzz_json_flat
#include "../../fuzz/fuzz_json_flat.cpp"
#undef LLVMFuzzerTestOneInput

#include "fuzz_registry.h"
SLUICE_FUZZ_TARGET(json_flat, sluice_fuzz_json_flat)
