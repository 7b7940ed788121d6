package CPANBridge;
# The test client under the name the operations guide's one-liners `use`: the same code as
# BridgeClient (which behaves like CPANBridge.pm v2.00), with the package variables shared.
use strict;
use warnings;
use BridgeClient;
our @ISA = ('BridgeClient');
no warnings 'once';
*CPANBridge::DAEMON_MODE            = \$BridgeClient::DAEMON_MODE;
*CPANBridge::FALLBACK_ENABLED       = \$BridgeClient::FALLBACK_ENABLED;
*CPANBridge::DAEMON_SOCKET          = \$BridgeClient::DAEMON_SOCKET;
*CPANBridge::DAEMON_TIMEOUT         = \$BridgeClient::DAEMON_TIMEOUT;
*CPANBridge::DAEMON_STARTUP_TIMEOUT = \$BridgeClient::DAEMON_STARTUP_TIMEOUT;
*CPANBridge::PYTHON_PATH            = \$BridgeClient::PYTHON_PATH;
*CPANBridge::DAEMON_SCRIPT          = \$BridgeClient::DAEMON_SCRIPT;
1;
