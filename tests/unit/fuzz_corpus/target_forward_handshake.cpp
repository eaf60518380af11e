// Corpus regression for tests/fuzz/fuzz_forward_handshake.cpp (see fuzz_registry.h).
#define LLVMFuzzerTestOneInput sluice_fuzz_forward_handshake
#include "../../fuzz/fuzz_forward_handshake.cpp"
#undef LLVMFuzzerTestOneInput

#include "fuzz_registry.h"
SLUICE_FUZZ_TARGET(forward_handshake, sluice_fuzz_forward_handshake)
