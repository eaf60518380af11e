// Declares `<buffer> @type memory` and `@type file` so `<buffer>` sections are validated and
// listed by `sluice plugins`. The machinery itself is collector/buffer (shared by every output).
#include "buffer/buffer.h"
#include "core/registry.h"

namespace sluice {

void register_buffer_memory_file(Registry& registry) {
  for (auto& spec : buffer::buffer_specs()) registry.add_spec(std::move(spec));
}

}  // namespace sluice
