"""The community model: population, rumour, tension, retaliation, partners."""
