pub mod ingressroute_class;
