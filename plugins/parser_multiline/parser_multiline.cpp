// `@type multiline` (Fluentd parser_multiline together with in_tail's multiline handling):
// `format_firstline` starts an event; the lines up to the next first line are joined with "\n"
// and matched against format1..format20 concatenated (always multiline: `.` matches newlines).
//
// Per stream, one open group is held. Lines of a group that starts and ends inside one parse()
// call are read in place (a one-line group is matched without any copy; a longer one is joined
// into batch.arena). A group still open when parse() returns is copied into the stream's hold
// buffer, which is reused from group to group.
#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../parser_none/parser_common.h"
#include "core/log.h"
#include "core/registry.h"

namespace sluice {
namespace parsers {

namespace {

constexpr int kFormatMaxNum = 20;  // Fluentd's FORMAT_MAX_NUM
// Name of the group wrapped around the whole pattern when there is no format_firstline (to find
// where a match starts in a group of lines); it never becomes a field.
constexpr std::string_view kWholeGroup = "__sluice_multiline_whole";
// A hold buffer that grew past this (a huge group) is released after the group is emitted.
constexpr size_t kKeepHoldCapacity = 64 * 1024;

class MultilinePlugin;

class MultilineParser final : public Parser {
 public:
  explicit MultilineParser(MultilinePlugin& plugin);
  void parse(std::span<const Line> lines, Batch& out) override;
  void flush(Batch& out) override;
  uint64_t held_from() const override { return open_ ? offset_ : UINT64_MAX; }

 private:
  void parse_with_firstline(std::span<const Line> lines, Batch& out);
  void parse_without_firstline(std::span<const Line> lines, Batch& out);

  // The open group.
  void start_group(std::span<const Line> lines, size_t i);
  void add_line(std::span<const Line> lines, size_t i);
  bool over_bounds(const Line& next) const;
  void move_to_hold(std::span<const Line> lines);
  void close_group(std::span<const Line> lines, Batch& out);
  void reset_group();

  // Matches `text` (which must live as long as the batch) and appends its record, or keeps it
  // raw when it does not match.
  void emit_text(Batch& out, std::string_view text, uint64_t offset, bool orphan = false);
  // Appends the record of the match the body matcher just made on `text`.
  void emit_matched(Batch& out, std::string_view text, uint64_t offset);
  void count_split();

  MultilinePlugin& plugin_;
  RubyRegex::Matcher body_;
  std::unique_ptr<RubyRegex::Matcher> first_;

  bool open_ = false;
  bool in_hold_ = false;  // the group's text is in hold_ (else lines [span_first_, +lines_) of this call)
  size_t span_first_ = 0;
  size_t lines_ = 0;  // lines in the group
  size_t bytes_ = 0;  // size of the joined text
  uint64_t offset_ = 0;
  std::string hold_;
  // Without format_firstline: where each held line starts in hold_, and its stream offset.
  std::vector<std::pair<size_t, uint64_t>> line_starts_;
};

class MultilinePlugin final : public ParserPlugin {
 public:
  MultilinePlugin(PluginContext& ctx, const Params& params) : errors_(ctx, "multiline") {
    id_ = ctx.id;
    if (ctx.metrics) splits_ = &ctx.counter("sluice_multiline_splits_total");

    // format1..format20: each `/.../` without flags (as Fluentd checks), no gaps.
    std::string joined;
    std::string prev_name;
    bool prev_missing = false;
    for (int i = 1; i <= kFormatMaxNum; ++i) {
      std::string name = "format" + std::to_string(i);
      if (!params.has(name)) {
        prev_missing = true;
        prev_name = name;
        continue;
      }
      if (prev_missing && i > 1)
        throw ConfigException(params.pos(name), "Jump of format index found. " + prev_name + " is missing.");
      prev_missing = false;
      std::string inner = slashed(params, name, true);
      joined += inner;
    }
    if (joined.empty() && !params.has("format1"))
      throw ConfigException(params.section().pos, "format1 is required (the pattern of an event)");

    try {
      body_ = std::make_unique<RubyRegex>("/" + joined + "/", false, true);
    } catch (const std::invalid_argument& e) {
      throw ConfigException(params.pos("format1"),
                            "Invalid regexp '" + joined + "': " + e.what());
    }
    if (body_->groups().empty())
      throw ConfigException(params.pos("format1"), "Invalid regexp '" + joined + "': No named captures");

    if (params.has("format_firstline")) {
      std::string inner = slashed(params, "format_firstline", false);
      try {
        firstline_ = std::make_unique<RubyRegex>("/" + inner + "/");
      } catch (const std::invalid_argument& e) {
        throw ConfigException(params.pos("format_firstline"),
                              std::string("Invalid regexp in format_firstline: ") + e.what());
      }
    } else {
      // A group is then the lines up to the first one with which the joined text matches; the
      // wrapper tells where the match starts, so lines before it are kept rather than lost.
      try {
        auto wrapped = std::make_unique<RubyRegex>("/(?<" + std::string(kWholeGroup) + ">" + joined + ")/",
                                                   false, true);
        body_ = std::move(wrapped);
      } catch (const std::invalid_argument&) {
        // Cannot happen for a pattern that compiled alone, short of an unterminated (?x) comment;
        // then the lines before a match stay in the group, as in Fluentd.
      }
    }

    time_.configure(params);
    convert_ = ValueConverter(params);
    const auto& groups = body_->groups();
    for (size_t i = 0; i < groups.size(); ++i) {
      if (groups[i].name == kWholeGroup) {
        whole_group_ = static_cast<int>(i);
        continue;
      }
      fields_.push_back(i);
      if (groups[i].name == time_.key) time_group_ = static_cast<int>(i);
    }

    int64_t ml = params.integer("max_lines");
    if (ml < 1) throw ConfigException(params.pos("max_lines"), "max_lines must be at least 1");
    max_lines_ = static_cast<size_t>(ml);
    max_bytes_ = params.size("max_bytes");
    if (max_bytes_ < 1) throw ConfigException(params.pos("max_bytes"), "max_bytes must be at least 1");
  }

  std::unique_ptr<Parser> open_stream(std::string_view) override {
    return std::make_unique<MultilineParser>(*this);
  }

  const RubyRegex& body() const { return *body_; }
  const RubyRegex* firstline() const { return firstline_.get(); }
  const std::vector<size_t>& fields() const { return fields_; }
  int time_group() const { return time_group_; }
  int whole_group() const { return whole_group_; }
  const TimeOptions& time() const { return time_; }
  const ValueConverter& convert() const { return convert_; }
  ErrorSink& errors() { return errors_; }
  size_t max_lines() const { return max_lines_; }
  size_t max_bytes() const { return max_bytes_; }
  Counter* splits() const { return splits_; }
  const std::string& id() const { return id_; }

 private:
  // The pattern inside `/.../`; Fluentd accepts no other form (and no flags).
  static std::string slashed(const Params& params, const std::string& name, bool is_format) {
    std::string v = params.str(name);
    if (v.size() < 2 || v.front() != '/' || v.back() != '/') {
      std::string msg = "format should be Regexp, need //, in " + name + ": '" + v + "'";
      if (v.size() >= 2 && v.front() == '/' && v.rfind('/') > 0)
        msg += is_format ? " (flags are not accepted; the joined pattern is always multiline: `.` matches newlines)"
                         : " (flags are not accepted)";
      throw ConfigException(params.pos(name), msg);
    }
    std::string inner = v.substr(1, v.size() - 2);
    // Each piece must be a valid regexp by itself, as Fluentd checks.
    try {
      RubyRegex check("/" + inner + "/", false, true);
    } catch (const std::invalid_argument& e) {
      throw ConfigException(params.pos(name), "Invalid regexp in " + name + ": " + e.what());
    }
    return inner;
  }

  std::unique_ptr<RubyRegex> body_;       // format1..N joined; compiled once, streams share it
  std::unique_ptr<RubyRegex> firstline_;  // null: no format_firstline
  std::vector<size_t> fields_;            // groups of body_ that become fields, in order
  int time_group_ = -1;
  int whole_group_ = -1;
  TimeOptions time_;
  ValueConverter convert_;
  ErrorSink errors_;
  Counter* splits_ = nullptr;
  size_t max_lines_ = 1000;
  size_t max_bytes_ = 1 << 20;
  std::string id_;
};

MultilineParser::MultilineParser(MultilinePlugin& plugin) : plugin_(plugin), body_(plugin.body()) {
  if (plugin.firstline()) first_ = std::make_unique<RubyRegex::Matcher>(*plugin.firstline());
}

void MultilineParser::parse(std::span<const Line> lines, Batch& out) {
  if (first_) parse_with_firstline(lines, out);
  else parse_without_firstline(lines, out);
}

void MultilineParser::parse_with_firstline(std::span<const Line> lines, Batch& out) {
  for (size_t i = 0; i < lines.size(); ++i) {
    const Line& line = lines[i];
    if (first_->search(line.bytes)) {
      if (open_) close_group(lines, out);
      start_group(lines, i);
      continue;
    }
    if (!open_) {
      // Before any first line (the file was opened mid-event, or after a flush). Fluentd drops it
      // unless emit_unmatched_lines, which parses it alone; so do we, and keep it if unparsable.
      emit_text(out, line.bytes, line.offset, true);
      continue;
    }
    if (over_bounds(line)) {
      close_group(lines, out);
      count_split();
      start_group(lines, i);  // the rest of the event is a group of its own
      continue;
    }
    add_line(lines, i);
  }
  if (open_ && !in_hold_) move_to_hold(lines);
}

void MultilineParser::parse_without_firstline(std::span<const Line> lines, Batch& out) {
  // Fluentd: lines accumulate until the accumulated text matches; that text is one event.
  for (size_t i = 0; i < lines.size(); ++i) {
    const Line& line = lines[i];
    if (open_ && over_bounds(line)) {
      close_group(lines, out);  // does not match (else it would have been emitted): kept raw
      count_split();
    }
    if (!open_) {
      if (body_.search(line.bytes)) {
        emit_matched(out, line.bytes, line.offset);
        continue;
      }
      start_group(lines, i);
      move_to_hold(lines);
      continue;
    }
    add_line(lines, i);
    if (!body_.search(hold_)) continue;
    // Lines wholly before the one where the match starts are not part of the event: keep them
    // raw (Fluentd loses them).
    size_t begin = 0;
    std::string_view whole;
    if (plugin_.whole_group() >= 0 && body_.group(static_cast<size_t>(plugin_.whole_group()), whole))
      begin = static_cast<size_t>(whole.data() - hold_.data());
    size_t k = 0;
    while (k + 1 < line_starts_.size() && line_starts_[k + 1].first <= begin) ++k;
    if (k == 0) {
      emit_text(out, out.arena.copy(hold_), offset_);
    } else {
      size_t cut = line_starts_[k].first;
      std::string_view prefix = out.arena.copy(std::string_view(hold_).substr(0, cut - 1));
      plugin_.errors().keep_raw(out, Line{prefix, offset_}, "match", "pattern not matched");
      std::string_view rest = out.arena.copy(std::string_view(hold_).substr(cut));
      emit_text(out, rest, line_starts_[k].second);
    }
    reset_group();
  }
}

void MultilineParser::flush(Batch& out) {
  if (open_) close_group({}, out);
}

void MultilineParser::start_group(std::span<const Line> lines, size_t i) {
  open_ = true;
  in_hold_ = false;
  span_first_ = i;
  lines_ = 1;
  bytes_ = lines[i].bytes.size();
  offset_ = lines[i].offset;
}

void MultilineParser::add_line(std::span<const Line> lines, size_t i) {
  const Line& line = lines[i];
  if (in_hold_) {
    if (!first_) line_starts_.emplace_back(hold_.size() + 1, line.offset);
    hold_.push_back('\n');
    hold_.append(line.bytes);
  }
  ++lines_;
  bytes_ += 1 + line.bytes.size();
}

bool MultilineParser::over_bounds(const Line& next) const {
  return lines_ + 1 > plugin_.max_lines() || bytes_ + 1 + next.bytes.size() > plugin_.max_bytes();
}

void MultilineParser::move_to_hold(std::span<const Line> lines) {
  hold_.clear();
  line_starts_.clear();
  hold_.reserve(bytes_);
  for (size_t j = span_first_; j < span_first_ + lines_; ++j) {
    if (j > span_first_) hold_.push_back('\n');
    if (!first_) line_starts_.emplace_back(hold_.size(), lines[j].offset);
    hold_.append(lines[j].bytes);
  }
  in_hold_ = true;
}

void MultilineParser::close_group(std::span<const Line> lines, Batch& out) {
  std::string_view text;
  if (in_hold_) {
    text = out.arena.copy(hold_);
  } else if (lines_ == 1) {
    text = lines[span_first_].bytes;  // lives as long as the batch: no copy
  } else {
    char* p = out.arena.allocate(bytes_);
    char* q = p;
    for (size_t j = span_first_; j < span_first_ + lines_; ++j) {
      if (j > span_first_) *q++ = '\n';
      const std::string_view b = lines[j].bytes;
      if (!b.empty()) std::memcpy(q, b.data(), b.size());
      q += b.size();
    }
    text = {p, static_cast<size_t>(q - p)};
  }
  const uint64_t offset = offset_;
  reset_group();
  emit_text(out, text, offset);
}

void MultilineParser::reset_group() {
  open_ = false;
  in_hold_ = false;
  lines_ = 0;
  bytes_ = 0;
  line_starts_.clear();
  if (hold_.capacity() > kKeepHoldCapacity) std::string().swap(hold_);
  else hold_.clear();
}

void MultilineParser::count_split() {
  if (plugin_.splits()) bump(*plugin_.splits());
  log::warn_once("multiline-split/" + plugin_.id(),
                 "[" + plugin_.id() + "] multiline group longer than max_lines " +
                     std::to_string(plugin_.max_lines()) + " or max_bytes " + std::to_string(plugin_.max_bytes()) +
                     "; emitted in parts (first of its kind; counted in sluice_multiline_splits_total)");
}

void MultilineParser::emit_text(Batch& out, std::string_view text, uint64_t offset, bool orphan) {
  if (body_.search(text)) {
    emit_matched(out, text, offset);
    return;
  }
  if (orphan)
    plugin_.errors().keep_raw(out, Line{text, offset}, "orphan",
                              "pattern not matched (line before any format_firstline line)");
  else
    plugin_.errors().keep_raw(out, Line{text, offset}, "match", "pattern not matched");
}

void MultilineParser::emit_matched(Batch& out, std::string_view text, uint64_t offset) {
  emit_match(out, plugin_.body(), body_, plugin_.fields(), plugin_.time_group(), plugin_.time(),
             plugin_.convert(), plugin_.errors(), Line{text, offset});
}

}  // namespace

}  // namespace parsers

void register_parser_multiline(Registry& registry) {
  PluginSpec spec;
  spec.kind = "parser";
  spec.type = "multiline";
  spec.doc = "Lines from a format_firstline match up to the next one, joined with \\n, matched against "
             "format1..format20 concatenated (Fluentd parser_multiline with in_tail's grouping).";
  ParamSpec firstline;
  firstline.name = "format_firstline";
  firstline.has_default = false;
  firstline.doc = "/regexp/ that a line starting an event matches. Without it, lines accumulate until "
                  "their joined text matches the formats.";
  spec.params.push_back(firstline);
  for (int i = 1; i <= parsers::kFormatMaxNum; ++i) {
    ParamSpec f;
    f.name = "format" + std::to_string(i);
    f.has_default = false;
    f.doc = i == 1 ? "/regexp/ (no flags) with named captures; format1..format20 are concatenated in order."
                   : "Continues the pattern of format" + std::to_string(i - 1) + ".";
    spec.params.push_back(f);
  }
  ParamSpec max_lines;
  max_lines.name = "max_lines";
  max_lines.type = ParamType::Integer;
  max_lines.default_value = "1000";
  max_lines.doc = "A group reaching this many lines is emitted and the rest starts a new group (counted).";
  spec.params.push_back(max_lines);
  ParamSpec max_bytes;
  max_bytes.name = "max_bytes";
  max_bytes.type = ParamType::Size;
  max_bytes.default_value = "1m";
  max_bytes.doc = "Likewise for the joined size of a group (a single longer line is never cut here).";
  spec.params.push_back(max_bytes);
  ParamSpec unmatched;
  unmatched.name = "unmatched_lines";
  unmatched.type = ParamType::Bool;
  unmatched.default_value = "false";
  unmatched.ignored = true;
  unmatched.doc = "Accepted (Fluentd's in_tail sets it from emit_unmatched_lines); unmatched lines are always kept.";
  spec.params.push_back(unmatched);
  parsers::BaseDefaults d;
  d.time_key = "time";  // Fluentd configures its inner regexp parser, whose time_key is "time"
  parsers::add_base_params(spec, d);
  registry.add_parser(std::move(spec), [](PluginContext& ctx, const Params& params) {
    return std::make_unique<parsers::MultilinePlugin>(ctx, params);
  });
}

}  // namespace sluice
