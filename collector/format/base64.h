// Standard Base64 (RFC 4648, with padding).
#pragma once

#include <string>
#include <string_view>

namespace sluice {

std::string base64_encode(std::string_view in);

}  // namespace sluice
