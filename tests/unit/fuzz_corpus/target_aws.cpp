// Corpus regression for tests/fuzz/fuzz_aws.cpp (see fuzz_registry.h).
#define LLVMFuzzerTestOneInput sluice_fuzz_aws
#include "../../fuzz/fuzz_aws.cpp"
#undef LLVMFuzzerTestOneInput

#include "fuzz_registry.h"
SLUICE_FUZZ_TARGET(aws, sluice_fuzz_aws)
