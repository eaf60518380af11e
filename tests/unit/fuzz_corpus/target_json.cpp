// Corpus regression for tests/fuzz/fuzz_json.cpp (see fuzz_registry.h).
#define LLVMFuzzerTestOneInput sluice_fuzz_json
#include "../../fuzz/fuzz_json.cpp"
#undef LLVMFuzzerTestOneInput

#include "fuzz_registry.h"
SLUICE_FUZZ_TARGET(json, sluice_fuzz_json)
