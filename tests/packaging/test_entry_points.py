"""Saleor 3.x finds plugins through the package's `saleor.plugins` entry points.

Its settings.py (2.11 to 3.x) does, for every entry point:

    plugin_path = f"{entry_point.module_name}.{entry_point.attrs[0]}"
    if plugin_path not in BUILTIN_PLUGINS and plugin_path not in EXTERNAL_PLUGINS:
        if entry_point.name not in INSTALLED_APPS:
            INSTALLED_APPS.append(entry_point.name)
        EXTERNAL_PLUGINS.append(plugin_path)

so each entry point's *name* must be an importable Django app module and its value a plugin.
"""
import importlib
from importlib.metadata import entry_points

import pkg_resources
from django.apps import AppConfig
from django.utils.module_loading import import_string
from saleor import settings as saleor_settings
from saleor.plugins.base_plugin import BasePlugin

from saleor_subscriptions import GATEWAY_ID, PLUGIN_ID

GROUP = "saleor.plugins"


def saleor3_discovery(installed_apps, builtin_plugins):
    """Saleor 3.x's plugin discovery, step by step (pkg_resources, as its settings.py uses)."""
    installed_apps, external = list(installed_apps), []
    for entry_point in pkg_resources.iter_entry_points(GROUP):
        plugin_path = f"{entry_point.module_name}.{entry_point.attrs[0]}"
        if plugin_path not in builtin_plugins and plugin_path not in external:
            if entry_point.name not in installed_apps:
                installed_apps.append(entry_point.name)
            external.append(plugin_path)
    return installed_apps, list(builtin_plugins) + external


def our_entry_points():
    # The same distribution may be on sys.path twice (site-packages and an egg-info in the
    # checkout): one entry point per name.
    return list({point.name: point for point in entry_points().get(GROUP, [])
                 if point.value.startswith("saleor_subscriptions")}.values())


def test_each_entry_point_name_is_an_importable_app_module_and_each_value_a_plugin():
    points = our_entry_points()
    assert len(points) == 2
    plugin_ids = set()
    for point in points:
        module = importlib.import_module(point.name)
        assert module.__name__ == point.name
        plugin = point.load()
        assert issubclass(plugin, BasePlugin)
        plugin_ids.add(plugin.PLUGIN_ID)
    # The plugin ids (stored configuration rows, GraphQL ids) did not change with the names.
    assert plugin_ids == {PLUGIN_ID, GATEWAY_ID}


def test_saleor3_settings_load_our_apps_and_plugins():
    installed_apps, plugins = saleor3_discovery(saleor_settings.INSTALLED_APPS,
                                                saleor_settings.PLUGINS)
    added = installed_apps[len(saleor_settings.INSTALLED_APPS):]
    assert "saleor_subscriptions" in added
    # What Django does with INSTALLED_APPS: an app config per entry, labels unique.
    configs = [AppConfig.create(entry) for entry in installed_apps]
    labels = [config.label for config in configs]
    assert len(labels) == len(set(labels)), labels
    ours = {config.name: config.label for config in configs if config.name in added}
    assert ours["saleor_subscriptions"] == "saleor_subscriptions"
    for path in plugins[len(saleor_settings.PLUGINS):]:
        assert issubclass(import_string(path), BasePlugin)
    assert {import_string(path).PLUGIN_ID for path in plugins} >= {PLUGIN_ID, GATEWAY_ID}
