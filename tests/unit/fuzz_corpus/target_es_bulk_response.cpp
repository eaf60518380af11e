// Corpus regression for tests/fuzz/fuzz_es_bulk_response.cpp (see fuzz_registry.h).
#define LLVMFuzzerTestOneInput sluice_fuzz_es_bulk_response
#include "../../fuzz/fuzz_es_bulk_response.cpp"
#undef LLVMFuzzerTestOneInput

#include "fuzz_registry.h"
SLUICE_FUZZ_TARGET(es_bulk_response, sluice_fuzz_es_bulk_response)
