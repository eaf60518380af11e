// What S3 said when it refused a request, from its XML error document (`<Error><Code>SlowDown
// </Code><Message>...</Message>...`), for logs and retry reasons. Only Code and Message are
// taken: the rest of a SignatureDoesNotMatch document echoes the canonical request, which holds
// the session token of temporary credentials.
#pragma once

#include <string>
#include <string_view>

#include "http/http_client.h"

namespace sluice::s3 {

// <Code> of the error document (bounded), or "".
std::string error_code(const http::HttpResponse& r);
// "connection refused ...", or "HTTP 503 SlowDown: Please reduce your request rate."
std::string describe(const http::HttpResponse& r);
// The text of the first <name> element of `xml`, unescaped and at most `max` bytes.
std::string xml_text(std::string_view xml, std::string_view name, size_t max);

}  // namespace sluice::s3
