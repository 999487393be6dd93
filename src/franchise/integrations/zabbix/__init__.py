"""The zabbix webhook format."""
