"""The only code that imports saleor.* for orders and payments (a 3.x adapter can sit beside it)."""
