// What Fluentd's in_http does with one complete request: the tag from the path, the records from
// the query, form or body, the response (status, headers, body). Pure: no sockets, so that it
// can be tested and fuzzed as it is; the server (in_http.cpp) emits the batch, then answers.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/plugin.h"
#include "http/request_head.h"
#include "form.h"
#include "records.h"

namespace sluice::in_http {

struct HandlerSettings {
  bool add_http_headers = false;
  bool add_remote_addr = false;
  bool add_query_params = false;
  bool cors = false;  // cors_allow_origins given
  std::vector<std::string> cors_allow_origins;
  bool cors_allow_credentials = false;
  bool respond_with_empty_img = false;
  bool use_204_response = false;
  std::string add_tag_prefix;
  RecordTime record_time;
  uint64_t decompression_size_limit = 256ull << 20;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Length
  std::string body;
  bool close = false;  // close the connection once it is written
  std::string error;   // why a request was refused (400), for the log
};

// The bytes on the wire.
std::string serialize(const Response& r);
// An error answer for a request that could not be read (from RequestReader).
Response error_response(int status, std::string_view reason);

class RequestHandler {
 public:
  // `custom` is the <parse> section's parser, or null for Fluentd's default json/msgpack rules.
  RequestHandler(HandlerSettings settings, std::unique_ptr<ParserPlugin> custom);

  // Fills `batch` (cleared first; its tag views the handler) with the request's records and
  // returns the answer, to be sent after the batch is emitted. `info` tells of skipped records.
  Response handle(const http::RequestHead& head, std::string_view body, std::string_view peer_ip,
                  bool keep_alive, Batch& batch, BodyInfo& info);

  // The current time (tests pin it).
  EventTime (*now)() = nullptr;

 private:
  bool origin_allowed(std::string_view origin) const;
  Response preflight(const http::RequestHead& head) const;
  void add_cors_headers(const http::RequestHead& head, Response& r) const;
  // The records of the request into batch; false with `error` for a 400.
  bool build(const http::RequestHead& head, std::string_view body, std::string_view peer_ip,
             Batch& batch, BodyInfo& info, std::string& error);
  bool parse_with_custom(std::string_view body, const RecordStamp& stamp, bool time_given, Batch& batch,
                         std::string& error);
  bool decompress(std::string_view encoding, std::string_view& body, std::string& error);

  HandlerSettings s_;
  std::unique_ptr<ParserPlugin> custom_;
  std::unique_ptr<Parser> custom_stream_;
  simdjson::dom::parser json_;
  std::string tag_;
  std::string inflated_;
  FormFields query_, form_;
  std::vector<Field> extra_;  // the request's HTTP_*, QUERY_*, REMOTE_ADDR fields
  Batch parsed_;              // what the custom parser made of the body
};

}  // namespace sluice::in_http
