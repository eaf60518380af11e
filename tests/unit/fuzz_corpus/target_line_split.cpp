// Corpus regression for tests/fuzz/fuzz_line_split.cpp (see fuzz_registry.h).
#define LLVMFuzzerTestOneInput sluice_fuzz_line_split
#include "../../fuzz/fuzz_line_split.cpp"
#undef LLVMFuzzerTestOneInput

#include "fuzz_registry.h"
SLUICE_FUZZ_TARGET(line_split, sluice_fuzz_line_split)
