package catalog

// destinationSettings decide where a credential's secrets are sent: the URL settings, and the parts a
// probe builds a host name from (bedrock.{region}.amazonaws.com, {location}-aiplatform.googleapis.com).
var destinationSettings = map[string]bool{"base_url": true, "endpoint": true, "host": true, "region": true, "location": true}

// IsDestinationSetting reports whether changing the setting changes where the secrets go, so that the
// change needs the secrets themselves: whoever sends a key decides where it goes.
func IsDestinationSetting(name string) bool { return destinationSettings[name] }
