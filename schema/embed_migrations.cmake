# Writes OUTPUT: a C++ source defining webhook::schema::<DIALECT>_migrations(), one entry per
# NNN_name.sql in MIGRATIONS, in order. Run by schema/CMakeLists.txt at build time.
set(body "")
# Numbers increase and start at 1; a gap is allowed, so that migrations numbered on
# branches apart (each branch takes its own number) build before the others have landed.
set(previous 0)
foreach(file IN LISTS MIGRATIONS)
  get_filename_component(name ${file} NAME)
  string(SUBSTRING ${name} 0 3 number)
  math(EXPR number "${number}" OUTPUT_FORMAT DECIMAL)
  if(NOT number GREATER previous OR (previous EQUAL 0 AND NOT number EQUAL 1))
    message(FATAL_ERROR "schema/${DIALECT}/${name}: migration numbers must start at 1 and increase")
  endif()
  set(previous ${number})
  file(READ ${file} sql)
  string(APPEND body "    {${number}, \"${DIALECT}/${name}\", R\"webhook_sql(${sql})webhook_sql\"},\n")
endforeach()
file(WRITE ${OUTPUT}.tmp "// Generated from schema/${DIALECT}/*.sql by schema/embed_migrations.cmake. Do not edit.
#include \"schema/migrations.h\"

namespace webhook::schema {

const std::vector<Migration>& ${DIALECT}_migrations() {
  static const std::vector<Migration> kMigrations = {
${body}  };
  return kMigrations;
}

}  // namespace webhook::schema
")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
