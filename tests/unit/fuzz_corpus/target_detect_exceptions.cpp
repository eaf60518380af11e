// Corpus regression for tests/fuzz/fuzz_detect_exceptions.cpp (see fuzz_registry.h).
#define LLVMFuzzerTestOneInput sluice_fuzz_detect_exceptions
#include "../../fuzz/fuzz_detect_exceptions.cpp"
#undef LLVMFuzzerTestOneInput

#include "fuzz_registry.h"
SLUICE_FUZZ_TARGET(detect_exceptions, sluice_fuzz_detect_exceptions)
