// One chunk's request, as out_http.rb's parse_endpoint, set_headers, create_request and set_auth
// build it; and what its answer means (send_request).
#pragma once

#include <string>
#include <string_view>

#include "buffer/buffer.h"
#include "buffer/chunk_placeholders.h"
#include "http/http_client.h"
#include "http_settings.h"

namespace sluice::http_out {

// Net::HTTP's spelling of a header name on the wire: each '-'-separated part capitalized
// ("x-api-key" -> "X-Api-Key").
std::string ruby_header_name(std::string_view name);
// Sets a header field, replacing one of the same name (case-insensitively), as Net::HTTP's []=.
void set_header(http::HeaderList& headers, std::string_view name, std::string value);

// The URL without its user info and query string (which may hold tokens), for log messages.
std::string loggable_url(std::string_view url);

// Fills `req` for chunk `c`. The body refers to the chunk's payload when it is sent as it is (no
// gzip, no json_array): the chunk must stay unchanged until the answer. Returns an empty string,
// or why the chunk cannot be sent, with `unrecoverable` saying whether Fluentd would give it up
// (Fluent::UnrecoverableError, ArgumentError) rather than retry it (URI::InvalidURIError).
std::string build_request(const Settings& s, const ChunkKeys& keys, const buffer::Chunk& c,
                          http::HttpRequest& req, bool& unrecoverable);

// What an answer means for the chunk (Success, Retry or Unrecoverable), and for
// error_response_as_unrecoverable false the error to log (the chunk counts as written then).
buffer::SendResult classify_response(const Settings& s, const http::HttpResponse& r, std::string& logged_error);

}  // namespace sluice::http_out
