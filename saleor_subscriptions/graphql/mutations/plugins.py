"""Saleor's own `pluginUpdate`, answering with what `plugin(id)` answers.

Saleor 2.10.1's mutation returns the database row it saved: a numeric `id` (the row's, not the
plugin's id) and `configuration: null` (the row keeps only what differs from the defaults, and
its type has no resolver for that). The 2.10.1 dashboard's plugin page then cannot refresh from
the answer and shows the values from before the save. The same mutation here saves through
Saleor's plugins manager as before, then answers with Saleor's own `resolve_plugin`: the
plugin's id, its active flag and its whole configuration, secrets masked as `plugin(id)` masks
them.
"""
from saleor.graphql.core.types.common import PluginError
from saleor.graphql.plugins.mutations import PluginUpdate
from saleor.graphql.plugins.resolvers import resolve_plugin


class PluginUpdateAsQueried(PluginUpdate):
    class Meta:
        name = "PluginUpdate"
        description = "Update plugin configuration."
        permissions = PluginUpdate._meta.permissions
        error_type_class = PluginError
        error_type_field = "plugins_errors"

    @classmethod
    def perform_mutation(cls, root, info, **data):
        super().perform_mutation(root, info, **data)
        return cls(plugin=resolve_plugin(info, data["id"]))
