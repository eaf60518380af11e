// `<source> @type http`: Fluentd's in_http (see README.md). This file declares its parameters and
// reads them; http_server.h serves the requests.
#include <algorithm>

#include "core/registry.h"
#include "http_server.h"

namespace sluice {

namespace {

constexpr auto& P = spec::with_default;
constexpr auto& Opt = spec::optional;
constexpr auto& Ign = spec::ignored;

PluginSpec http_spec() {
  PluginSpec s{"input", "http",
               "Fluentd's in_http: records POSTed to /<tag> as json=, msgpack=, "
               "ndjson= parameters or JSON, msgpack, ndjson bodies, or bodies parsed by <parse>.",
               {},
               {"parse"}};
  s.params = {
      P("bind", ParamType::String, "0.0.0.0", "Address to listen on."),
      P("port", ParamType::Integer, "9880", "TCP port."),
      P("body_size_limit", ParamType::Size, "32m", "Largest body accepted (413 above it)."),
      P("keepalive_timeout", ParamType::Duration, "10", "Idle seconds before a connection is closed."),
      Opt("backlog", ParamType::Integer, "Listen backlog (default 1024)."),
      P("add_http_headers", ParamType::Bool, "false", "Add the request's headers as HTTP_<NAME> fields."),
      P("add_remote_addr", ParamType::Bool, "false",
        "Add REMOTE_ADDR: the first X-Forwarded-For address, else the peer's."),
      Ign("blocking_timeout", ParamType::Duration, "Accepted; ignored."),
      Opt("cors_allow_origins", ParamType::Array, "Origins allowed by CORS (`*`, or with one `*` wildcard)."),
      P("cors_allow_credentials", ParamType::Bool, "false", "Answer Access-Control-Allow-Credentials: true."),
      P("respond_with_empty_img", ParamType::Bool, "false", "Answer with a 1x1 GIF."),
      P("use_204_response", ParamType::Bool, "false", "Answer 204 No Content instead of 200."),
      P("dump_error_log", ParamType::Bool, "true", "Log refused requests."),
      P("add_query_params", ParamType::Bool, "false", "Add the query parameters as QUERY_<NAME> fields."),
      Opt("add_tag_prefix", ParamType::String, "Prefix added to tags (`prefix.tag`)."),
      P("decompression_size_limit", ParamType::Size, "256m",
        "Largest body after Content-Encoding gzip/deflate is undone (newer Fluentd's parameter)."),
  };
  return s;
}

// `<parse>` without @type, or `@type in_http`: the default rules with their time settings.
PluginSpec default_parser_spec() {
  PluginSpec s{
      "parser", "in_http", "in_http's default body rules (json, msgpack, ndjson), for its <parse>.", {}, {}};
  s.params = {
      P("time_key", ParamType::String, "time", "Record field holding the event time."),
      P("keep_time_key", ParamType::Bool, "false", "Keep the time field in the record."),
      Opt("time_format", ParamType::String, "strptime format of a string time field."),
      spec::choice("time_type", "string", {"string", "float", "unixtime"}, "How a string time field reads."),
      P("utc", ParamType::Bool, "false", "Times without a zone are UTC."),
      Opt("timezone", ParamType::String, "Zone (+09:00) of times without one."),
      P("localtime", ParamType::Bool, "true", "Times without a zone are local (unless utc)."),
  };
  return s;
}

in_http::RecordTime read_record_time(const ConfigSection& parse, const PluginSpec& spec) {
  Params p(parse, spec);
  in_http::RecordTime rt;
  rt.key = p.str("time_key");
  rt.keep = p.flag("keep_time_key");
  if (p.has("time_format") || p.has("time_type")) {
    std::string type = p.str("time_type");
    auto t = type == "float" ? TimeParser::Type::Float
                             : type == "unixtime" ? TimeParser::Type::Unixtime : TimeParser::Type::String;
    try {
      rt.parser.emplace(p.str("time_format"), t, p.flag("utc"), p.str("timezone"));
    } catch (const std::invalid_argument& e) {
      throw ConfigException(p.pos("time_format"), std::string("http: ") + e.what());
    }
  }
  return rt;
}

std::unique_ptr<Input> make_http(PluginContext& ctx, const Params& p) {
  in_http::Settings s;
  s.bind = p.str("bind");
  if (p.integer("port") < 0 || p.integer("port") > 65535)
    throw ConfigException(p.pos("port"), "http: port out of range (0..65535)");
  s.port = int(p.integer("port"));
  if (p.has("backlog")) s.backlog = int(std::clamp<int64_t>(p.integer("backlog"), 1, 65535));
  s.limits.max_body = p.size("body_size_limit");
  double keepalive = p.seconds("keepalive_timeout");
  if (keepalive <= 0)
    throw ConfigException(p.pos("keepalive_timeout"), "http: keepalive_timeout must be positive");
  s.keepalive_ms = uint64_t(keepalive * 1000);
  s.dump_error_log = p.flag("dump_error_log");
  in_http::HandlerSettings& h = s.handler;
  h.add_http_headers = p.flag("add_http_headers");
  h.add_remote_addr = p.flag("add_remote_addr");
  h.add_query_params = p.flag("add_query_params");
  h.cors = p.has("cors_allow_origins");
  h.cors_allow_origins = p.list("cors_allow_origins");
  h.cors_allow_credentials = p.flag("cors_allow_credentials");
  if (h.cors_allow_credentials &&
      (!h.cors || std::find(h.cors_allow_origins.begin(), h.cors_allow_origins.end(), "*") !=
                      h.cors_allow_origins.end()))
    throw ConfigException(p.pos("cors_allow_credentials"),
                          "http: Cannot enable cors_allow_credentials without specific origins");
  h.respond_with_empty_img = p.flag("respond_with_empty_img");
  h.use_204_response = p.flag("use_204_response");
  h.add_tag_prefix = p.str("add_tag_prefix");
  if (p.has("add_tag_prefix") && h.add_tag_prefix.empty())
    throw ConfigException(p.pos("add_tag_prefix"), "http: 'add_tag_prefix' parameter must not be empty");
  h.decompression_size_limit = p.size("decompression_size_limit");

  std::unique_ptr<ParserPlugin> custom;
  const ConfigSection* parse = p.section().child("parse");
  std::string type = parse ? parse->get("@type", "in_http") : "in_http";
  if (type == "in_http") {
    if (parse) {
      const PluginSpec* spec = ctx.check_section(*parse, "parser", "in_http");
      if (spec) h.record_time = read_record_time(*parse, *spec);
    }
  } else {
    custom = ctx.make_parser(parse, "");
  }
  return in_http::make_server(ctx, std::move(s), std::move(custom));
}

}  // namespace

void register_in_http(Registry& registry) {
  registry.add_input(http_spec(), make_http);
  registry.add_spec(default_parser_spec());
}

}  // namespace sluice
