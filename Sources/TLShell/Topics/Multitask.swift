extension Topic {
    static let multitask = Topic(
        name: "multitask", title: "Multitask learning",
        text: """
          Train one shared trunk with a head per task, on all tasks at once: each task's data
          shapes the shared features, which helps the task with the least data. Unlike fine-
          tuning nothing is sequential; the losses are added. multitask(trunk, [head, …]) builds
          it; train takes a list of datasets, one per head.
          """,
        formula: """
          min over θ_shared, θ_1 … θ_T of  Σ_t L_t(θ_shared, θ_t)
          """,
        example: """
          seed(1)
          mt = multitask(mlp([2352, 64]), [linear(64, 10), linear(64, 10)])
          scarce = take(digits(300, style="usps", seed=2), 3, per_class=true)
          plenty = digits(600)
          train(mt, [scarce, plenty], epochs=5, batch=16, quiet=true);
          evaluate(mt, [digits(200, style="usps", seed=3), digits(200, seed=4)])
          """)
}
