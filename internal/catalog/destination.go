package catalog

// destinationSettings decide where a credential's secrets are sent: the URL settings, the parts a
// probe builds a host name from (bedrock.{region}.amazonaws.com, {location}-aiplatform.googleapis.com),
// and auth_method, which decides whether the raw secret goes to the endpoint or to a token exchange
// (Azure's entra_id sends it to Entra ID, api_key to the resource).
var destinationSettings = map[string]bool{"base_url": true, "endpoint": true, "host": true, "region": true, "location": true, "auth_method": true}

// IsDestinationSetting reports whether changing the setting changes where the secrets go, so that the
// change needs the secrets themselves: whoever sends a key decides where it goes.
func IsDestinationSetting(name string) bool { return destinationSettings[name] }
