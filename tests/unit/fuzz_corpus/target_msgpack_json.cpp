// Corpus regression for tests/fuzz/fuzz_msgpack_json.cpp (see fuzz_registry.h).
#define LLVMFuzzerTestOneInput sluice_fuzz_msgpack_json
#include "../../fuzz/fuzz_msgpack_json.cpp"
#undef LLVMFuzzerTestOneInput

#include "fuzz_registry.h"
SLUICE_FUZZ_TARGET(msgpack_json, sluice_fuzz_msgpack_json)
