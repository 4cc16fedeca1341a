extension Topic {
    static let coral = Topic(
        name: "coral", title: "Deep CORAL: aligning second-order statistics",
        text: """
          Deep CORAL matches the covariances of the source and target features, a discrepancy
          that is differentiable and cheap. It aligns the spread and correlations of the
          features, not only their means. train(net, src, target=tgt, align="coral"), at the input
          of the last linear layer unless at=k says otherwise (see :help mmd).
          """,
        formula: """
          L_CORAL = ‖C_s − C_t‖²_F / (4 d²),   C = (1/(n−1)) (XᵀX − (1/n)(1ᵀX)ᵀ(1ᵀX)),  d features
          """,
        example: """
          seed(1)
          src = digits(400)
          tgt = unlabel(digits(400, style="mnistm", seed=2))
          net = cnn()
          train(net, src, epochs=1, optimizer="adam", lr=0.001, quiet=true);
          train(net, src, target=tgt, align="coral", epochs=1, optimizer="adam", lr=0.001, quiet=true)
          round(evaluate(net, digits(200, style="mnistm", seed=3)).accuracy, 2)
          """)
}
