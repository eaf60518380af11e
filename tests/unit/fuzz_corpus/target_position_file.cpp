// Corpus regression for tests/fuzz/fuzz_position_file.cpp (see fuzz_registry.h).
#define LLVMFuzzerTestOneInput sluice_fuzz_position_file
#include "../../fuzz/fuzz_position_file.cpp"
#undef LLVMFuzzerTestOneInput

#include "fuzz_registry.h"
SLUICE_FUZZ_TARGET(position_file, sluice_fuzz_position_file)
