"""The plugin manager: built-in and third-party plugins, loaded the same way."""
from __future__ import annotations

import pluggy

from hotel_community import hookspecs
from hotel_community.hookspecs import PaymentProvider, PMSAdapter


class Plugins:
    """The loaded plugins and what they provide, by name."""

    def __init__(self, disabled: tuple[str, ...] = ()) -> None:
        self.manager = pluggy.PluginManager(hookspecs.PROJECT)
        self.manager.add_hookspecs(hookspecs)
        for name in disabled:
            self.manager.set_blocked(name)
        self.manager.load_setuptools_entrypoints(hookspecs.ENTRY_POINT_GROUP)

    def register(self, plugin: object, name: str | None = None) -> None:
        self.manager.register(plugin, name)

    @property
    def pms_adapters(self) -> dict[str, PMSAdapter]:
        return _by_name(self.manager.hook.hotel_community_pms_adapters())

    @property
    def payment_providers(self) -> dict[str, PaymentProvider]:
        return _by_name(self.manager.hook.hotel_community_payment_providers())

    def names(self) -> list[str]:
        """Names of the loaded plugins (a blocked one is listed by pluggy with ``None``)."""
        return sorted(name for name, plugin in self.manager.list_name_plugin() if plugin is not None)


def _by_name(results: list[list]) -> dict:
    return {item.name: item for items in results for item in items}
