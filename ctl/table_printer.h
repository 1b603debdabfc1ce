// Prints rows as a plain-text table with a header and columns padded to their widest cell
// (UTF-8 aware), for webhookctl's human-readable output. Owns its rows; not thread-safe.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace webhook::ctl {

class TablePrinter {
 public:
  explicit TablePrinter(std::vector<std::string> header) : header_(std::move(header)) {}

  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  bool empty() const { return rows_.empty(); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// `text` on one line (newlines and tabs as spaces), cut to `max` characters with "…".
std::string one_line(const std::string& text, std::size_t max);

}  // namespace webhook::ctl
