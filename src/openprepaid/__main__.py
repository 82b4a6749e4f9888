from openprepaid.cli import main

raise SystemExit(main())
