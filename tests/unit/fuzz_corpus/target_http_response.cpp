// Corpus regression for tests/fuzz/fuzz_http_response.cpp (see fuzz_registry.h).
#define LLVMFuzzerTestOneInput sluice_fuzz_http_response
#include "../../fuzz/fuzz_http_response.cpp"
#undef LLVMFuzzerTestOneInput

#include "fuzz_registry.h"
SLUICE_FUZZ_TARGET(http_response, sluice_fuzz_http_response)
