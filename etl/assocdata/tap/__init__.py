"""Publication through a Vollt TAP server (docs/tap.md).

- :mod:`.schema`: TAP_SCHEMA generated from the one ObsCore description;
- :mod:`.check`: TAP_SCHEMA compared with the database catalog (Vollt never does);
- :mod:`.config`: tap.properties, web.xml and the examples, rendered for a deployment;
- :mod:`.role`: the read-only database role of the TAP server;
- :mod:`.serve`: Vollt under Debian's Jetty 9 when ``VOLLT_LIB`` has its jars.
"""
