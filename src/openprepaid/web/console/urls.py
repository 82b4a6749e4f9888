"""Console URLs. Names are ``<area>_<page>``: the area picks the highlighted navigation entry."""

from django.urls import path

from openprepaid.web.console.views import (
    accounts_desk,
    auth,
    billing,
    billing_tariffs,
    board,
    commands,
    configio,
    gateways,
    meters,
    operators,
    overview,
    sales,
    sites,
    systemlog,
    tenants,
    units,
)

app_name = "console"
urlpatterns = [
    path("", overview.OverviewView.as_view(), name="home"),
    path("login/", auth.ConsoleLoginView.as_view(), name="login"),
    path("logout/", auth.ConsoleLogoutView.as_view(), name="logout"),
    # meter board
    path("board/", board.BoardView.as_view(), name="board"),
    # sites, buildings, floors
    path("sites/", sites.SiteListView.as_view(), name="site_list"),
    path("sites/new/", sites.SiteCreateView.as_view(), name="site_create"),
    path("sites/<int:pk>/", sites.SiteDetailView.as_view(), name="site_detail"),
    path("sites/<int:pk>/edit/", sites.SiteEditView.as_view(), name="site_edit"),
    path("sites/<int:pk>/buildings/new/", sites.BuildingCreateView.as_view(), name="site_building"),
    path("sites/<int:pk>/floors/new/", sites.FloorCreateView.as_view(), name="site_floor"),
    # units
    path("units/", units.UnitListView.as_view(), name="unit_list"),
    path("units/new/", units.UnitCreateView.as_view(), name="unit_create"),
    path("units/<int:pk>/edit/", units.UnitEditView.as_view(), name="unit_edit"),
    path("units/<int:pk>/retire/", units.UnitRetireView.as_view(), name="unit_retire"),
    # gateways
    path("gateways/", gateways.GatewayListView.as_view(), name="gateway_list"),
    path("gateways/new/", gateways.GatewayCreateView.as_view(), name="gateway_create"),
    path("gateways/<int:pk>/edit/", gateways.GatewayEditView.as_view(), name="gateway_edit"),
    path("gateways/<int:pk>/retire/", gateways.GatewayRetireView.as_view(), name="gateway_retire"),
    # meters
    path("meters/", meters.MeterListView.as_view(), name="meter_list"),
    path("meters/new/", meters.MeterCreateView.as_view(), name="meter_create"),
    path("meters/<int:pk>/", meters.MeterDetailView.as_view(), name="meter_detail"),
    path("meters/<int:pk>/edit/", meters.MeterEditView.as_view(), name="meter_edit"),
    path("meters/<int:pk>/retire/", meters.MeterRetireView.as_view(), name="meter_retire"),
    path("meters/<int:pk>/commands/", commands.MeterCommandsView.as_view(), name="meter_commands"),
    # batch commands
    path("commands/batches/", commands.BatchListView.as_view(), name="batch_list"),
    path("commands/batches/new/", commands.BatchCreateView.as_view(), name="batch_create"),
    path("commands/batches/<int:pk>/", commands.BatchDetailView.as_view(), name="batch_detail"),
    # tenants and accounts
    path("tenants/", tenants.TenantListView.as_view(), name="tenant_list"),
    path("tenants/new/", tenants.TenantCreateView.as_view(), name="tenant_create"),
    path("tenants/<int:pk>/", tenants.TenantDetailView.as_view(), name="tenant_detail"),
    path("tenants/<int:pk>/edit/", tenants.TenantEditView.as_view(), name="tenant_edit"),
    path("tenants/<int:pk>/archive/", tenants.TenantArchiveView.as_view(), name="tenant_archive"),
    path(
        "tenants/<int:pk>/accounts/new/",
        tenants.AccountRegisterView.as_view(),
        name="tenant_account",
    ),
    # sales desk (售电)
    path("sales/", sales.SalesDeskView.as_view(), name="sales_desk"),
    path("sales/cash-up/", sales.CashUpView.as_view(), name="sales_cashup"),
    path("sales/accounts/<int:pk>/", sales.AccountView.as_view(), name="sales_account"),
    path("sales/accounts/<int:pk>/sales/", sales.AccountSalesView.as_view(), name="sales_history"),
    path(
        "sales/accounts/<int:pk>/statement/", sales.StatementView.as_view(), name="sales_statement"
    ),
    path("sales/accounts/<int:pk>/sell/", sales.SellView.as_view(), name="sales_sell"),
    path("sales/accounts/<int:pk>/open/", accounts_desk.OpenView.as_view(), name="sales_open"),
    path(
        "sales/accounts/<int:pk>/refund/", accounts_desk.RefundView.as_view(), name="sales_refund"
    ),
    path("sales/accounts/<int:pk>/close/", accounts_desk.CloseView.as_view(), name="sales_close"),
    path("sales/accounts/<int:pk>/swap/", accounts_desk.SwapView.as_view(), name="sales_swap"),
    path("sales/<int:pk>/", sales.SaleView.as_view(), name="sales_sale"),
    path("sales/<int:pk>/correct/", accounts_desk.CorrectView.as_view(), name="sales_correct"),
    path("sales/<int:pk>/receipt.pdf", sales.ReceiptPdfView.as_view(), name="sales_receipt"),
    # operators
    path("operators/", operators.OperatorListView.as_view(), name="operator_list"),
    path("operators/new/", operators.OperatorCreateView.as_view(), name="operator_create"),
    path("operators/<int:pk>/edit/", operators.OperatorEditView.as_view(), name="operator_edit"),
    path(
        "operators/<int:pk>/password/",
        operators.OperatorPasswordView.as_view(),
        name="operator_password",
    ),
    path(
        "operators/<int:pk>/unlock/", operators.OperatorUnlockView.as_view(), name="operator_unlock"
    ),
    # system log (read-only)
    path("system-log/", systemlog.SystemLogListView.as_view(), name="systemlog_list"),
    path("system-log/<int:pk>/", systemlog.SystemLogDetailView.as_view(), name="systemlog_detail"),
    # quick configuration and export
    path("configuration/", configio.ImportView.as_view(), name="configio"),
    path("configuration/apply/", configio.ApplyImportView.as_view(), name="configio_apply"),
    path(
        "configuration/template.xlsx",
        configio.TemplateDownloadView.as_view(),
        name="configio_template",
    ),
    path(
        "configuration/template/<slug:kind>.csv",
        configio.CsvTemplateDownloadView.as_view(),
        name="configio_csv",
    ),
    path("reports/export/", configio.ExportView.as_view(), name="export"),
    # billing configuration (tariffs, meter groups, settings, holidays, alarms)
    path("billing/tariffs/", billing_tariffs.TariffListView.as_view(), name="tariff_list"),
    path("billing/tariffs/new/", billing_tariffs.TariffCreateView.as_view(), name="tariff_create"),
    path(
        "billing/tariffs/<int:pk>/",
        billing_tariffs.TariffDetailView.as_view(),
        name="tariff_detail",
    ),
    path(
        "billing/tariffs/<int:pk>/versions/new/",
        billing_tariffs.TariffVersionCreateView.as_view(),
        name="tariff_version",
    ),
    path(
        "billing/tariffs/<int:pk>/assign/",
        billing_tariffs.TariffAssignView.as_view(),
        name="tariff_assign",
    ),
    path("billing/groups/", billing.GroupListView.as_view(), name="metergroup_list"),
    path("billing/groups/new/", billing.GroupCreateView.as_view(), name="metergroup_create"),
    path("billing/groups/<int:pk>/", billing.GroupMembersView.as_view(), name="metergroup_edit"),
    path("billing/settings/", billing.BillingSettingsView.as_view(), name="billingsettings"),
    path(
        "billing/settings/<int:site>/",
        billing.BillingSettingsView.as_view(),
        name="billingsettings_site",
    ),
    path(
        "billing/settings/<int:site>/receipt-layout/",
        billing.ReceiptLayoutView.as_view(),
        name="billingsettings_layout",
    ),
    path("billing/holidays/", billing.HolidayListView.as_view(), name="holiday_list"),
    path("billing/holidays/new/", billing.HolidayCreateView.as_view(), name="holiday_create"),
    path(
        "billing/holidays/<int:pk>/remove/",
        billing.HolidayRemoveView.as_view(),
        name="holiday_remove",
    ),
    path("billing/alarms/", billing.AlarmListView.as_view(), name="billingalarm_list"),
    path(
        "meters/<int:pk>/thresholds/",
        billing.MeterThresholdsView.as_view(),
        name="meter_thresholds",
    ),
]
