#include "k8s_meta.h"

#include <oniguruma.h>

#include <mutex>
#include <stdexcept>

namespace sluice::k8s {

namespace {
void onig_init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    OnigEncoding encs[] = {ONIG_ENCODING_UTF8};
    onig_initialize(encs, 1);
  });
}
}  // namespace

Regex::Regex(const std::string& pattern, bool ignore_case) {
  onig_init_once();
  regex_t* re = nullptr;
  OnigErrorInfo einfo;
  auto* p = reinterpret_cast<const UChar*>(pattern.data());
  int r = onig_new(&re, p, p + pattern.size(), ignore_case ? ONIG_OPTION_IGNORECASE : ONIG_OPTION_NONE,
                   ONIG_ENCODING_UTF8, ONIG_SYNTAX_RUBY, &einfo);
  if (r != ONIG_NORMAL) {
    UChar buf[ONIG_MAX_ERROR_MESSAGE_LEN];
    onig_error_code_to_str(buf, r, &einfo);
    throw std::runtime_error("invalid regexp /" + pattern + "/: " + reinterpret_cast<char*>(buf));
  }
  re_ = re;
  region_ = onig_region_new();
}

Regex::~Regex() {
  if (region_) onig_region_free(static_cast<OnigRegion*>(region_), 1);
  if (re_) onig_free(static_cast<regex_t*>(re_));
}

bool Regex::search(std::string_view text) const {
  auto* s = reinterpret_cast<const UChar*>(text.data());
  auto* e = s + text.size();
  return onig_search(static_cast<regex_t*>(re_), s, e, s, e, static_cast<OnigRegion*>(region_),
                     ONIG_OPTION_NONE) >= 0;
}

namespace {
struct NameCtx {
  std::string_view text;
  OnigRegion* region;
  std::vector<std::pair<std::string, std::string>>* out;
};
int on_name(const UChar* name, const UChar* name_end, int n, int* groups, regex_t*, void* arg) {
  auto* ctx = static_cast<NameCtx*>(arg);
  for (int i = n - 1; i >= 0; --i) {  // the last group with that name that matched
    int g = groups[i];
    if (ctx->region->beg[g] >= 0) {
      ctx->out->emplace_back(std::string(reinterpret_cast<const char*>(name), name_end - name),
                             std::string(ctx->text.substr(ctx->region->beg[g],
                                                          ctx->region->end[g] - ctx->region->beg[g])));
      break;
    }
  }
  return 0;
}
}  // namespace

bool Regex::search(std::string_view text, std::vector<std::pair<std::string, std::string>>& groups) const {
  groups.clear();
  if (!search(text)) return false;
  NameCtx ctx{text, static_cast<OnigRegion*>(region_), &groups};
  onig_foreach_name(static_cast<regex_t*>(re_), on_name, &ctx);
  return true;
}

const char* const kDefaultTagRegexp =
    "((var\\.log\\.pods)\\.(?<namespace>[^_]+)_(?<pod_name>[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)_(?<pod_uuid>[a-z0-9-]*)\\.(?<container_name>.+)\\..*\\.log$"
    "|"
    "(var\\.log\\.containers)\\.(?<pod_name>[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)_(?<namespace>[^_]+)_(?<container_name>.+)-(?<docker_id>[a-z0-9]{64})\\.log$)";

TagMatcher::TagMatcher(const std::string& pattern) : re_(pattern) {}

bool TagMatcher::match(std::string_view tag, TagInfo& out) const {
  std::vector<std::pair<std::string, std::string>> groups;
  if (!re_.search(tag, groups)) return false;
  out = TagInfo{};
  for (auto& [k, v] : groups) {
    if (k == "namespace") out.ns = v;
    else if (k == "pod_name") out.pod = v;
    else if (k == "container_name") out.container = v;
    else if (k == "docker_id") out.docker_id = v;
    else if (k == "pod_uuid") out.pod_uid = v;
  }
  return !out.pod.empty() || !out.ns.empty();
}

}  // namespace sluice::k8s
