// Corpus regression for tests/fuzz/fuzz_json_escape.cpp (see fuzz_registry.h).
#define LLVMFuzzerTestOneInput sluice_fuzz_json_escape
#include "../../fuzz/fuzz_json_escape.cpp"
#undef LLVMFuzzerTestOneInput

#include "fuzz_registry.h"
SLUICE_FUZZ_TARGET(json_escape, sluice_fuzz_json_escape)
