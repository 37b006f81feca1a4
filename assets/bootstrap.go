package assets

import _ "embed"

// BootstrapScript is the instance bootstrap run from user data; the stack fills in its
// placeholders (see the script's header).
//
//go:embed bootstrap.sh
var BootstrapScript string

// WebServerUnit is the systemd unit that runs the web server on each instance.
//
//go:embed webserver.service
var WebServerUnit string
