// Corpus regression for tests/fuzz/fuzz_http_request.cpp (see fuzz_registry.h).
#define LLVMFuzzerTestOneInput sluice_fuzz_http_request
#include "../../fuzz/fuzz_http_request.cpp"
#undef LLVMFuzzerTestOneInput

#include "fuzz_registry.h"
SLUICE_FUZZ_TARGET(http_request, sluice_fuzz_http_request)
