// Command-line parsing for the `sluice` binary.
#pragma once

#include <string>
#include <vector>

namespace sluice {

struct CliOptions {
  enum class Mode { Run, DryRun, Tail, Plugins, Version, Help } mode = Mode::Run;
  std::string config_path;  // empty: the embedded default
  std::string log_level;
  // `sluice tail`
  std::vector<std::string> tail_paths;
  std::string parser = "auto";
  std::string tag = "tail.*";
  std::string to = "stdout";
  std::string pos_file;
  bool from_head = false;
  bool exit_on_eof = false;
};

// Returns false with `error` set on a usage error.
bool parse_cli(int argc, char** argv, CliOptions& out, std::string& error);
const char* usage();

// The configuration `sluice tail` runs, in Fluentd syntax. Returns false with `error` set for an
// unknown --to target.
bool tail_config(const CliOptions& options, std::string& config, std::string& error);
// The `<match **>` block for a `--to` target.
bool match_block(const std::string& to, std::string& config, std::string& error);
// The embedded default configuration (tails the bundled samples to stdout).
std::string default_config();

}  // namespace sluice
