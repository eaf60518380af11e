#include "request_handler.h"

#include <zlib.h>

#include <algorithm>

#include "core/log.h"

namespace sluice::in_http {

namespace {

// A transparent 1x1 GIF, Fluentd's respond_with_empty_img answer.
constexpr unsigned char kEmptyGif[] = {0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0xff,
                                       0x00, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
                                       0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

const char* reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 408: return "Request Timeout";
    case 413: return "Request Entity Too Large";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

// Fluentd's tag: the path without its leading `/`, `/` turned into `.` (as Ruby's split and
// join do it: trailing empty parts are dropped, inner ones kept).
std::string tag_of(std::string_view path) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  std::string tag(path);
  std::replace(tag.begin(), tag.end(), '/', '.');
  return tag;
}

std::string header_field_name(std::string_view prefix, std::string_view name) {
  std::string key(prefix);
  for (char c : name) key += c == '-' ? '_' : (c >= 'a' && c <= 'z' ? char(c - 32) : c);
  return key;
}

}  // namespace

std::string serialize(const Response& r) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason_phrase(r.status) + "\r\n";
  for (auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n";
  out += r.body;
  return out;
}

Response error_response(int status, std::string_view reason) {
  Response r;
  r.status = status;
  r.headers = {{"Content-Type", "text/plain"}, {"Connection", "close"}};
  r.body = std::to_string(status) + " " + reason_phrase(status) + "\n" + std::string(reason) + "\n";
  r.close = true;
  return r;
}

RequestHandler::RequestHandler(HandlerSettings settings, std::unique_ptr<ParserPlugin> custom)
    : s_(std::move(settings)), custom_(std::move(custom)) {
  if (custom_) custom_stream_ = custom_->open_stream("in_http");
}

Response RequestHandler::handle(const http::RequestHead& head, std::string_view body,
                                std::string_view peer_ip, bool keep_alive, Batch& batch, BodyInfo& info) {
  batch.clear();
  info = {};
  Response r;
  r.headers.emplace_back("Content-Type", "text/plain");
  if (head.method == "GET") {
    // Fluentd 1.18 answers every GET with 200 and emits nothing: it is a health check (Azure,
    // the Kubernetes probes of the Helm charts), whatever its query says.
    r.close = true;
    return r;
  }
  if (head.method == "OPTIONS") return preflight(head);
  const std::string* origin = head.header("origin");
  if (s_.cors && origin && !origin_allowed(*origin)) {
    r.status = 403;
    r.headers.emplace_back("Connection", "close");
    r.close = true;
    return r;
  }
  std::string error;
  if (!build(head, body, peer_ip, batch, info, error)) {
    batch.clear();
    r.status = 400;
    r.body = "400 Bad Request\n" + error + "\n";
    r.error = std::move(error);
  } else if (s_.respond_with_empty_img) {
    r.headers[0].second = "image/gif; charset=utf-8";
    r.body.assign(reinterpret_cast<const char*>(kEmptyGif), sizeof kEmptyGif);
  } else if (s_.use_204_response) {
    r.status = 204;
  }
  add_cors_headers(head, r);
  r.close = !keep_alive;
  r.headers.emplace_back("Connection", keep_alive ? "Keep-Alive" : "close");
  return r;
}

bool RequestHandler::origin_allowed(std::string_view origin) const {
  for (const std::string& allowed : s_.cors_allow_origins) {
    if (allowed == "*" || allowed == origin) return true;
    if (allowed.empty()) continue;
    // `http://*.example.com`: a prefix and a suffix around one `*`.
    size_t star = allowed.find('*');
    std::string_view a = allowed;
    std::string_view start = a.substr(0, star), end = star == std::string::npos ? a : a.substr(star + 1);
    if (star == std::string::npos) continue;
    if (origin.size() >= start.size() + end.size() && starts_with(origin, start) &&
        origin.substr(origin.size() - end.size()) == end)
      return true;
  }
  return false;
}

Response RequestHandler::preflight(const http::RequestHead& head) const {
  Response r;
  r.headers.emplace_back("Content-Type", "text/plain");
  r.close = true;
  const std::string* method = head.header("access-control-request-method");
  const std::string* origin = head.header("origin");
  bool wildcard = std::find(s_.cors_allow_origins.begin(), s_.cors_allow_origins.end(), "*") !=
                  s_.cors_allow_origins.end();
  if (!s_.cors || !method || *method != "POST" || (!wildcard && !(origin && origin_allowed(*origin)))) {
    r.status = 403;
    return r;
  }
  const std::string* headers = head.header("access-control-request-headers");
  r.headers.emplace_back("Access-Control-Allow-Methods", "POST");
  r.headers.emplace_back("Access-Control-Allow-Headers", headers ? *headers : "");
  r.headers.emplace_back("Access-Control-Allow-Origin", wildcard ? "*" : *origin);
  if (!wildcard && s_.cors_allow_credentials)
    r.headers.emplace_back("Access-Control-Allow-Credentials", "true");
  return r;
}

void RequestHandler::add_cors_headers(const http::RequestHead& head, Response& r) const {
  if (!s_.cors) return;
  const std::string* origin = head.header("origin");
  if (std::find(s_.cors_allow_origins.begin(), s_.cors_allow_origins.end(), "*") !=
      s_.cors_allow_origins.end()) {
    r.headers.emplace_back("Access-Control-Allow-Origin", "*");
  } else if (origin && origin_allowed(*origin)) {
    r.headers.emplace_back("Access-Control-Allow-Origin", *origin);
    if (s_.cors_allow_credentials) r.headers.emplace_back("Access-Control-Allow-Credentials", "true");
  }
}

bool RequestHandler::decompress(std::string_view encoding, std::string_view& body, std::string& error) {
  z_stream z{};
  // gzip: a gzip header; deflate: a zlib stream, as Ruby's Zlib::Inflate.inflate reads it.
  if (inflateInit2(&z, encoding == "gzip" ? 15 + 16 : 15) != Z_OK) {
    error = "cannot decompress the body";
    return false;
  }
  inflated_.clear();
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  z.avail_in = uInt(body.size());
  int rc = Z_OK;
  char out[64 * 1024];
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(out);
    z.avail_out = sizeof out;
    rc = inflate(&z, Z_NO_FLUSH);
    inflated_.append(out, sizeof out - z.avail_out);
    if (inflated_.size() > s_.decompression_size_limit) {
      inflateEnd(&z);
      error = "the decompressed body is larger than decompression_size_limit";
      return false;
    }
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) {
    error = "the body is not valid " + std::string(encoding) + " data";
    return false;
  }
  body = inflated_;
  return true;
}

bool RequestHandler::build(const http::RequestHead& head, std::string_view body, std::string_view peer_ip,
                           Batch& batch, BodyInfo& info, std::string& error) {
  tag_ = tag_of(head.path);
  if (tag_.empty()) {
    error = "no tag: send the records to /<tag>";
    return false;
  }
  if (!s_.add_tag_prefix.empty()) tag_ = s_.add_tag_prefix + "." + tag_;
  batch.tag = tag_;

  query_.clear();
  form_.clear();
  if (size_t q = head.target.find('?'); q != std::string::npos)
    decode_form(std::string_view(head.target).substr(q + 1, head.target.find('#', q) - q - 1), query_);

  const std::string* encoding = head.header("content-encoding");
  if (encoding && (*encoding == "gzip" || *encoding == "deflate") && !decompress(*encoding, body, error))
    return false;

  // The request's own fields, added to every record.
  extra_.clear();
  if (s_.add_http_headers)
    for (auto& [name, value] : head.headers) {
      std::string_view key = batch.arena.copy(header_field_name("HTTP_", name));
      auto same = std::find_if(extra_.begin(), extra_.end(), [&](const Field& f) { return f.key == key; });
      if (same == extra_.end()) extra_.push_back({key, Value::of_string(batch.arena.copy(value))});
      else same->value.text = batch.arena.concat(batch.arena.concat(same->value.text, ", "), value);
    }
  if (s_.add_query_params)
    for (auto& [name, value] : query_)
      extra_.push_back(
          {batch.arena.copy(header_field_name("QUERY_", name)), Value::of_string(batch.arena.copy(value))});
  if (s_.add_remote_addr) {
    std::string_view addr = peer_ip;
    if (const std::string* forwarded = head.header("x-forwarded-for"))
      addr = std::string_view(*forwarded).substr(0, forwarded->find(','));
    extra_.push_back({"REMOTE_ADDR", Value::of_string(batch.arena.copy(addr))});
  }

  const EventTime now_time = now ? now() : sluice::now();
  RecordStamp stamp;
  stamp.fixed = now_time;
  stamp.extra = extra_.empty() ? nullptr : &extra_;

  if (custom_) {
    const std::string* t = form_value(query_, "time");
    if (t) stamp.fixed = time_param(*t, now_time);
    return parse_with_custom(body, stamp, t != nullptr, batch, error);
  }

  const std::string* type_field = head.header("content-type");
  const std::string content_type = type_field ? *type_field : "";
  std::string_view json_body, msgpack_body, ndjson_body;
  bool from_body = false;
  if (starts_with(content_type, "application/x-www-form-urlencoded")) {
    decode_form(body, form_);
  } else if (starts_with(content_type, "multipart/form-data")) {
    error = "multipart/form-data bodies are not supported; send the record as json=... form data or as "
            "an application/json body";
    return false;
  } else if (starts_with(content_type, "application/json") ||
             starts_with(content_type, "application/csp-report")) {
    json_body = body, from_body = true;
  } else if (starts_with(content_type, "application/msgpack")) {
    msgpack_body = body, from_body = true;
  } else if (starts_with(content_type, "application/x-ndjson")) {
    ndjson_body = body, from_body = true;
  }
  auto param = [&](std::string_view key) -> const std::string* {
    const std::string* v = form_value(form_, key);
    return v ? v : form_value(query_, key);
  };
  if (!from_body) {
    if (const std::string* v = param("msgpack")) msgpack_body = *v, from_body = true;
    else if (const std::string* j = param("json")) json_body = *j, from_body = true;
    else if (const std::string* n = param("ndjson")) ndjson_body = *n, from_body = true;
  }
  if (!from_body) {
    error = "'json', 'ndjson' or 'msgpack' parameter is required";
    return false;
  }
  if (const std::string* t = param("time")) {
    stamp.fixed = time_param(*t, now_time);
  } else {
    stamp.from_field = &s_.record_time;
  }
  if (msgpack_body.data()) return add_msgpack_records(msgpack_body, stamp, batch, info, error);
  if (json_body.data()) return add_json_records(json_, json_body, stamp, batch, info, error);
  return add_ndjson_records(json_, ndjson_body, stamp, batch, info, error);
}

bool RequestHandler::parse_with_custom(std::string_view body, const RecordStamp& stamp, bool time_given,
                                       Batch& batch, std::string& error) {
  // Fluentd hands the whole body to the parser as one text.
  parsed_.clear();
  Line line{body, 0};
  custom_stream_->parse(std::span<const Line>(&line, 1), parsed_);
  custom_stream_->flush(parsed_);
  for (const Record& rec : parsed_.records) {
    batch.begin_record(rec.time);
    for (const Field* f = parsed_.begin(rec); f != parsed_.end(rec); ++f) batch.add_field(f->key, f->value);
    if (!stamp_last_record(batch, stamp, error)) return false;
    if (!time_given) batch.records.back().time = rec.time;  // the parser's time
  }
  return true;
}

}  // namespace sluice::in_http
