pytest_plugins = ["fakeweb", "pluginharness"]
