// Corpus regression for tests/fuzz/fuzz_kubelet_pods.cpp (see fuzz_registry.h).
#define LLVMFuzzerTestOneInput sluice_fuzz_kubelet_pods
#include "../../fuzz/fuzz_kubelet_pods.cpp"
#undef LLVMFuzzerTestOneInput

#include "fuzz_registry.h"
SLUICE_FUZZ_TARGET(kubelet_pods, sluice_fuzz_kubelet_pods)
