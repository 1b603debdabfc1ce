#include "common/template/unicode.h"

#include <algorithm>

namespace webhook::tmpl {

char32_t decode_utf8(std::string_view s, std::size_t& i) {
  auto c = static_cast<unsigned char>(s[i++]);
  if (c < 0x80) return c;
  int extra = c >= 0xF0 ? 3 : (c >= 0xE0 ? 2 : 1);
  char32_t cp = c & (0x3F >> extra);
  for (int k = 0; k < extra && i < s.size(); ++k) {
    cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
  }
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::size_t utf8_offset(std::string_view s, std::size_t code_points) {
  std::size_t i = 0;
  while (code_points > 0 && i < s.size()) {
    decode_utf8(s, i);
    --code_points;
  }
  return i;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int extra;
    char32_t cp, min;
    if ((c & 0xE0) == 0xC0) {
      extra = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    for (int k = 1; k <= extra; ++k) {
      if (i + k >= s.size()) return false;
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

bool is_printable(char32_t cp) {
  if (cp >= 0x20 && cp < 0x7F) return true;
  using namespace unicode_tables;
  const CodeRange* end = kNonPrintable + kNonPrintableCount;
  const CodeRange* it = std::upper_bound(
      kNonPrintable, end, cp, [](char32_t c, const CodeRange& r) { return c < r.first; });
  return it == kNonPrintable || cp > (it - 1)->last;
}

bool is_space(char32_t cp) {
  switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x1C:
    case 0x1D:
    case 0x1E:
    case 0x1F:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

namespace {

void append_mapped(std::string& out, std::string_view s, const CaseRun* runs, std::size_t nruns,
                   const CaseMulti* multi, std::size_t nmulti, bool upper) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      bool change = upper ? (c >= 'a' && c <= 'z') : (c >= 'A' && c <= 'Z');
      out += static_cast<char>(change ? c ^ 0x20 : c);
      ++i;
      continue;
    }
    char32_t cp = decode_utf8(s, i);
    const CaseMulti* m =
        std::find_if(multi, multi + nmulti, [cp](const CaseMulti& x) { return x.code == cp; });
    if (m != multi + nmulti) {
      for (char32_t t : m->to) {
        if (t) append_utf8(out, t);
      }
      continue;
    }
    const CaseRun* it = std::upper_bound(runs, runs + nruns, cp,
                                         [](char32_t v, const CaseRun& r) { return v < r.first; });
    if (it != runs && cp <= (it - 1)->last) cp = static_cast<char32_t>(cp + (it - 1)->delta);
    append_utf8(out, cp);
  }
}

}  // namespace

void append_lower(std::string& out, std::string_view s) {
  using namespace unicode_tables;
  append_mapped(out, s, kLowerRuns, kLowerRunCount, kLowerMulti, kLowerMultiCount, false);
}

void append_upper(std::string& out, std::string_view s) {
  using namespace unicode_tables;
  append_mapped(out, s, kUpperRuns, kUpperRunCount, kUpperMulti, kUpperMultiCount, true);
}

}  // namespace webhook::tmpl
