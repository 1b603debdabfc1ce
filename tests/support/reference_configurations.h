// The example configurations of the Python connector's README
// (shared/reference/webhook-connector-README.md), each with its query in the 5.x filter
// syntax the README shows and in the FilterGroup syntax of OpenCTI 5.12 and later. Shared by
// the poller's and the end-to-end reference tests, so both check the same configurations.
#pragma once

namespace webhook::testing {

struct ReferenceConfiguration {
  const char* name;                // an identifier, usable as a test name
  const char* kind;                // the collection its records live in
  const char* legacy_query;        // as the reference README shows it (5.x)
  const char* filter_group_query;  // the same for OpenCTI 5.12 and later
  const char* location;
  const char* url;  // with http://localhost, as in the README
};

inline constexpr ReferenceConfiguration kReferenceConfigurations[] = {
    {"WorkConnectorAndMessages", "works",
     "{{works(filters:[{{key:completed_time,operator:\"gt\",values:[\"LAST_POLL_TIME\"]}}]){{"
     "edges{{node{{connector{{name}}messages{{message}}}}}}}}}}",
     "{{works(filters:{{mode:and,filters:[{{key:\"completed_time\",operator:gt,values:["
     "\"LAST_POLL_TIME\"]}}],filterGroups:[]}}){{edges{{node{{connector{{name}}messages{{"
     "message}}}}}}}}}}",
     "['data']['works']['edges']",
     "http://localhost?connector_name={item['node']['connector']['name']}&messages="
     "{item['node']['messages']}"},
    {"EventIdOfLongCompletedWork", "works",
     "{{works(filters:[{{key:completed_time,operator:\"gt\",values:[\"LAST_POLL_TIME\"]}},{{key:"
     "received_time,operator:\"lt\",values:[\"{LAST_POLL_TIME-60000*3}\"]}}],filterMode:and){{"
     "edges{{node{{event_source_id}}}}}}}}",
     "{{works(filters:{{mode:and,filters:[{{key:\"completed_time\",operator:gt,values:["
     "\"LAST_POLL_TIME\"]}},{{key:\"received_time\",operator:lt,values:[\"{LAST_POLL_TIME-60000*"
     "3}\"]}}],filterGroups:[]}}){{edges{{node{{event_source_id}}}}}}}}",
     "['data']['works']['edges']", "http://localhost?event_id={item['node']['event_source_id']}"},
    {"EventIdOfLongProcessedWork", "works",
     "{{works(filters:[{{key:processed_time,operator:\"gt\",values:[\"LAST_POLL_TIME\"]}},{{key:"
     "received_time,operator:\"lt\",values:[\"{LAST_POLL_TIME-60000*3}\"]}}],filterMode:and){{"
     "edges{{node{{event_source_id}}}}}}}}",
     "{{works(filters:{{mode:and,filters:[{{key:\"processed_time\",operator:gt,values:["
     "\"LAST_POLL_TIME\"]}},{{key:\"received_time\",operator:lt,values:[\"{LAST_POLL_TIME-60000*"
     "3}\"]}}],filterGroups:[]}}){{edges{{node{{event_source_id}}}}}}}}",
     "['data']['works']['edges']", "http://localhost?event_id={item['node']['event_source_id']}"},
    {"NewUserEmail", "users",
     "{{users(filters:[{{key:created_at,operator:\"gt\",values:[\"LAST_POLL_TIME\"]}}]){{edges{{"
     "node{{user_email}}}}}}}}",
     "{{users(filters:{{mode:and,filters:[{{key:\"created_at\",operator:gt,values:["
     "\"LAST_POLL_TIME\"]}}],filterGroups:[]}}){{edges{{node{{user_email}}}}}}}}",
     "['data']['users']['edges']", "http://localhost?email={item['node']['user_email']}"},
    {"ThreatActorConfidence", "threatActors",
     "{{threatActors(filters:[{{key:updated_at,operator:\"gt\",values:[\"LAST_POLL_TIME\"]}}],"
     "search:\"APT29\"){{edges{{node{{confidence}}}}}}}}",
     "{{threatActors(filters:{{mode:and,filters:[{{key:\"updated_at\",operator:gt,values:["
     "\"LAST_POLL_TIME\"]}}],filterGroups:[]}},search:\"APT29\"){{edges{{node{{confidence}}}}}}}}",
     "['data']['threatActors']['edges']",
     "http://localhost?confidence={item['node']['confidence']}"},
};

}  // namespace webhook::testing
