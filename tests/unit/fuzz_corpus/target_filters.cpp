// Corpus regression for tests/fuzz/fuzz_filters.cpp (see fuzz_registry.h).
#define LLVMFuzzerTestOneInput sluice_fuzz_filters
#include "../../fuzz/fuzz_filters.cpp"
#undef LLVMFuzzerTestOneInput

#include "fuzz_registry.h"
SLUICE_FUZZ_TARGET(filters, sluice_fuzz_filters)
