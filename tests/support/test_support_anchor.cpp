// Keeps webhook_test_support a valid library before any shared test helper exists.
namespace webhook::testing {
int test_support_anchor() { return 0; }
}  // namespace webhook::testing
